/**
 * Client SDK, Node entry: images are decoded with pure-JS decoders
 * (image/jpeg-decoder.ts: jpeg-js's decoder with libjpeg's IDCT; image/png.ts); requests go through nodeRequest (node:http / node:https
 * with keep-alive; node-fetch.ts) unless options.fetch is given. The browser entry is
 * browser.ts (same API).
 */
import { PrivateInferenceClientBase, type ClientOptions } from './client.js';
import { decodeImageNode } from './image/decode-node.js';
import { nodeFetch, nodeRequest } from './node-fetch.js';

export * from './common.js';
export { decodeImageNode as decodeImage, nodeFetch };

export class PrivateInferenceClient extends PrivateInferenceClientBase {
  constructor(options: ClientOptions) {
    super(options, decodeImageNode, nodeRequest);
  }
}
