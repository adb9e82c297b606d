export {
	MessageParser,
	looksLikeMessageStart,
	type Chunk,
	type MessageHead,
	type ParsedMessage,
	type MessageParserOptions,
	type MessageParserStats,
} from './message-parser.ts';
export {
	Http1Connection,
	type Http1Exchange,
	type Http1ConnectionOptions,
	type Http1ConnectionStats,
	type Side,
} from './http1-connection.ts';
export { templatePath } from './path-template.ts';
