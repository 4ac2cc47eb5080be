// Browser-safe public entry of @prof/format: no Node built-ins may be imported from here.
export * from './schema';
export * from './errors';
export { DocumentBuilder, emptyMeta, type FrameSpec, type FinishOptions } from './builder';
