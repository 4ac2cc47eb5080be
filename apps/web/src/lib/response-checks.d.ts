// Built by responseChecks.ts (a Vite plugin): a compiled check for every name of RESPONSE_SCHEMAS.
declare module 'virtual:response-checks' {
  const checks: Record<string, (value: unknown) => boolean>;
  export default checks;
}
