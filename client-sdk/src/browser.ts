/**
 * Client SDK, browser entry (bundled to dist/browser.js): images are decoded
 * with createImageBitmap + canvas. No Node module is imported from here.
 */
import { PrivateInferenceClientBase, type ClientOptions } from './client.js';
import { decodeImageBrowser } from './image/decode-browser.js';

export * from './common.js';
export { decodeImageBrowser as decodeImage };

export class PrivateInferenceClient extends PrivateInferenceClientBase {
  constructor(options: ClientOptions) {
    super(options, decodeImageBrowser);
  }
}
