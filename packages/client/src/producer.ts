import type { DocumentProducer } from '@prof/format';

/** This package's version; a test checks it against package.json. */
export const CLIENT_VERSION = '0.1.0';

/**
 * Stamped on every document this client writes (the decorator and `prof run`), so a bad document can be
 * traced to the client release that recorded it rather than to the @prof/format that encoded it.
 */
export const CLIENT_PRODUCER: DocumentProducer = { name: '@prof/client', version: CLIENT_VERSION };
