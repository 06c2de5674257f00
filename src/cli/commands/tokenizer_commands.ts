// Registers tokenize, detokenize, template. Implementations live in ../chat/ and load lazily.
import type { Command } from "commander";

export function registerTokenizerCommands(program: Command): void {
  program
    .command("tokenize")
    .description('encode text with a checkpoint\'s tokenizer; prints {"ids": [...]}')
    .requiredOption("--model <dir>", "checkpoint or tokenizer directory (tiktoken.model + tokenizer_config.json)")
    .option("--text <text>", "text to encode (default: read stdin)")
    .option("--allow-special", "turn special-token text such as <|im_end|> into special ids (default: encode it as plain text)")
    .action(async (opts: { model: string; text?: string; allowSpecial?: boolean }) => {
      const { runTokenize } = await import("../chat/tokenize_command.js");
      await runTokenize(opts);
    });

  program
    .command("detokenize")
    .description("decode token ids to text (special tokens by name)")
    .requiredOption("--model <dir>", "checkpoint or tokenizer directory")
    .option("--ids <ids...>", 'token ids: "1 2 3", "1,2,3" or "[1,2,3]" (default: read stdin, also {"ids": [...]})')
    .action(async (opts: { model: string; ids?: string[] }) => {
      const { runDetokenize } = await import("../chat/tokenize_command.js");
      await runDetokenize(opts);
    });

  program
    .command("template")
    .description("render a conversation with the checkpoint's chat template; prints the prompt byte for byte")
    .requiredOption("--model <dir>", "checkpoint or tokenizer directory (uses chat_template.jinja, else the built-in K2 template)")
    .requiredOption("--messages <file>", 'JSON file: an array of messages, or {"messages": [...], "tools": [...]} ("-" for stdin)')
    .option("--tools <file>", "JSON file: an array of OpenAI function tool schemas")
    .option("--no-generation-prompt", "do not end with the assistant header")
    .option("--ids", 'print {"ids": [...]} of the prompt instead (markup as special ids, content as plain text)')
    .action(async (opts: { model: string; messages: string; tools?: string; generationPrompt: boolean; ids?: boolean }) => {
      const { runTemplate } = await import("../chat/template_command.js");
      await runTemplate(opts);
    });
}
