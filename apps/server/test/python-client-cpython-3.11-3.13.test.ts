// The Python client's tests (python-client-harness.ts) under cpython-3.11, cpython-3.12, cpython-3.13, in a file of its own so that
// vitest runs it beside the other interpreters' files.
import { interpreterTests } from './python-client-harness';

interpreterTests('python-client-cpython-3.11-3.13.test.ts');
