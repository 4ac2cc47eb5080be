// Node entry of @prof/format: file and stream helpers that use Node built-ins.
export * from './index';
