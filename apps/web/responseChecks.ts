// The `virtual:response-checks` module: each response schema of @prof/api compiled to a plain function
// when the page is built, by TypeBox's own code generator (`Build`). The page's Content-Security-Policy
// forbids eval, so in the browser TypeBox can only interpret a schema: 20-28 ms per 1,500-bin /memory
// answer, a third of a zoom. The compiled function takes 0.03 ms.
import { fileURLToPath } from 'node:url';
import type { TSchema } from 'typebox';
import { Build } from 'typebox/schema';
import { type Plugin, runnerImport } from 'vite';

const ID = 'virtual:response-checks';
const RESOLVED = `\0${ID}`;

/** One schema's check as an expression: TypeBox's functions and entry, its regular expressions inlined. */
function compiled(name: string, schema: TSchema): string {
  const build = Build(schema);
  const external = build.External();
  const functions = build.Functions().join(';\n');
  // The generated code may call TypeBox's runtime (CheckContext, Guard, Hashing) for keywords the
  // schemas do not use today; such a schema has to fail the build, not the page.
  if (build.UseUnevaluated() || /\b(CheckContext|Guard|Hashing)\b/.test(functions))
    throw new Error(`response checks: ${name} needs TypeBox's runtime helpers; extend responseChecks.ts`);
  const variables = external.variables.map((v: unknown) => {
    if (!(v instanceof RegExp)) throw new Error(`response checks: ${name} has an external that is not a RegExp`);
    return `new RegExp(${JSON.stringify(v.source)}, ${JSON.stringify(v.flags)})`;
  });
  return `((${external.identifier}) => { ${functions}; return (value) => ${build.Entry()}; })([${variables.join(', ')}])`;
}

/**
 * The module's source: a default export mapping each name of RESPONSE_SCHEMAS to `(value) => boolean`.
 * The schemas are read through Vite from @prof/api's source, as the page bundles it: never from a stale
 * build of it.
 */
async function responseChecksSource(): Promise<string> {
  const path = fileURLToPath(new URL('./src/lib/responseSchemas.ts', import.meta.url));
  const { module } = await runnerImport<typeof import('./src/lib/responseSchemas.ts')>(path, {
    logLevel: 'silent',
    environments: { inline: { resolve: { conditions: ['@prof/source'], noExternal: ['@prof/api'] } } },
  });
  const entries = Object.entries(module.RESPONSE_SCHEMAS).map(
    ([name, schema]) => `  ${JSON.stringify(name)}: ${compiled(name, schema)},`,
  );
  return `export default {\n${entries.join('\n')}\n};`;
}

export function responseChecks(): Plugin {
  let source: Promise<string> | undefined;
  return {
    name: 'prof-response-checks',
    resolveId: (id) => (id === ID ? RESOLVED : undefined),
    load: (id) => (id === RESOLVED ? (source ??= responseChecksSource()) : undefined),
  };
}
