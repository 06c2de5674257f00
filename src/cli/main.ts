#!/usr/bin/env node
// The k2 command line. This file and the command modules it registers import only commander and
// other light modules: `k2 --version` and `k2 --help` must print without loading React or the
// native addon. Each command's action imports its implementation lazily.
import { Command } from "commander";
import { registerEngineCommands } from "./commands/engine_commands.js";
import { registerTokenizerCommands } from "./commands/tokenizer_commands.js";
import { registerAppCommands } from "./commands/app_commands.js";
import { registerServeCommand } from "./commands/serve_command.js";
import { registerExpertCommands } from "./commands/expert_commands.js";
import { runProgram } from "./run_program.js";
import { VERSION } from "./version.js";

const program = new Command("k2").version(VERSION, "-V, --version");
registerAppCommands(program); // default (interactive / -p one-shot) and `config`
registerEngineCommands(program); // logits, generate, bench, info
registerTokenizerCommands(program); // tokenize, detokenize, template
registerExpertCommands(program); // simulate, convert
registerServeCommand(program); // serve

await runProgram(program, process.argv);
