import type { Command } from 'commander';

export function registerOnnxCommands(program: Command): void {
  program.command('onnx').description('(placeholder)');
}
