import { z } from 'zod';
import { listOption, textOption } from '../command.ts';
import { UNWIND_MODES } from '@firesight/native';
import { choice, duration, wholeNumber } from './option-values.ts';

/** The collector agent's options, as `firesight collector` and `firesight up` both take them. */
export const agentOptions = {
	frequency: textOption(wholeNumber(1, 10_000).default(97), { short: 'F' }),
	unwind: textOption(choice(UNWIND_MODES).default('auto')),
	window: textOption(duration(1000, 3_600_000).default(10_000)),
	'capture-bodies': listOption(z.array(wholeNumber(1, 2 ** 22)).default([])),
};

/** Their help lines, but for --window whose example differs per command. */
export const agentOptionsUsage = `  -F, --frequency HZ   samples per second per CPU, 1-10000 (default 97)
  --unwind MODE        how user stacks are walked: dwarf (unwind tables from .eh_frame), fp
                       (frame pointers only) or auto (tables, frame pointers where a file has
                       none; the default)
  --capture-bodies PID keep HTTPS request and response bodies of this process (capped at 4 KiB
                       each); repeat for more processes. Bodies are off by default.`;
