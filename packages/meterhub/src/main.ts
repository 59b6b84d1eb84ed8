import { runCli } from '@meterhub/core/cli';
import { builtinPackageDirs } from './builtin-packages.js';

await runCli({ argv: process.argv, builtins: builtinPackageDirs() });
