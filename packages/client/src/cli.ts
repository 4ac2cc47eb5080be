#!/usr/bin/env node
// The `prof` command: each src/commands/*.ts registers its subcommands here.
import { Command } from 'commander';
import { registerUpload } from './commands/upload';
import { registerRun } from './commands/run';
import { registerSpool } from './commands/spool';
import { registerInspect } from './commands/inspect';
import { registerConvert } from './commands/convert';
import { registerDiff } from './commands/diff';

const program = new Command('prof').description('Prof: convert, inspect, upload and compare profiles');
registerUpload(program);
registerRun(program);
registerSpool(program);
registerInspect(program);
registerConvert(program);
registerDiff(program);

await program.parseAsync(process.argv);
