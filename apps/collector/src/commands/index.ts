import type { Command } from '../command.ts';
import { collector } from './collector.ts';
import { hub } from './hub.ts';
import { query } from './query.ts';
import { record } from './record.ts';
import { up } from './up.ts';

/** Every `firesight` subcommand, in the order `--help` lists them. */
export const commands: readonly Command[] = [up, record, collector, hub, query];
