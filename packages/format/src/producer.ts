import type { DocumentProducer } from './schema';

/** This package's version; a test checks it against package.json (no JSON import in browser code). */
export const FORMAT_VERSION = '0.1.0';

/** The producer stamped on documents built here unless the caller names another (`FinishOptions.producer`). */
export const FORMAT_PRODUCER: DocumentProducer = { name: '@prof/format', version: FORMAT_VERSION };
