/**
 * Progress on a terminal: one line rewritten in place. Off a terminal (CI logs, pipes) only the
 * final line is written, so logs are not flooded.
 */
export function progressLine(stream: NodeJS.WriteStream) {
	const tty = stream.isTTY === true;
	return {
		update(text: string): void {
			if (tty) stream.write(`\r\x1b[2K${text}`);
		},
		done(text: string): void {
			stream.write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
		},
	};
}
