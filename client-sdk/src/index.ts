/**
 * Client SDK, Node entry: images are decoded with pure-JS decoders
 * (jpeg-js, pngjs). The browser entry is browser.ts (same API).
 */
import { PrivateInferenceClientBase, type ClientOptions } from './client.js';
import { decodeImageNode } from './image/decode-node.js';

export * from './common.js';
export { decodeImageNode as decodeImage };

export class PrivateInferenceClient extends PrivateInferenceClientBase {
  constructor(options: ClientOptions) {
    super(options, decodeImageNode);
  }
}
