// The Python client's tests (python-client-harness.ts) under cpython-3.8, cpython-3.9, cpython-3.10, in a file of its own so that
// vitest runs it beside the other interpreters' files.
import { interpreterTests } from './python-client-harness';

interpreterTests('python-client-cpython-3.8-3.10.test.ts');
