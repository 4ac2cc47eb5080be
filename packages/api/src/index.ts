// The HTTP contract between the Prof server and its clients. Browser-safe (no Node built-ins): the
// web app imports its types with `import type`, the server registers its routes with the schemas.
export * from './errors';
export * from './schemas';
