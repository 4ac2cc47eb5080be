// The Python client's tests (python-client-harness.ts) under pypy3, in a file of its own so that
// vitest runs it beside the other interpreters' files.
import { interpreterTests } from './python-client-harness';

interpreterTests('python-client-pypy3.test.ts');
