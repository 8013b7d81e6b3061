/**
 * The revision of the malicious mode's messages. Two builds whose malicious runs send different messages (another
 * order, count or size of a step's messages, another set-up) must not run together: the first message that differs
 * is an integrity failure (E_INTEGRITY), which blames a party, drops the epoch and its mask pool, and looks exactly
 * like cheating. So a malicious party announces this revision in its link HELLO (parties/party.ts, settings
 * `maliciousRevision`) and link-hello.ts refuses a peer with another one (E_SETTINGS_MISMATCH, naming it) before any
 * session: one organisation upgrading first gets a refused link and a clear log line, never a false alarm.
 *
 * Revisions (a HELLO without the field is revision 1, what every build before the field runs):
 *   1  up to the 2026-12-07 late round.
 *   2  2026-12-07 round 4: the session set-up's coin commitments ride on each party's first message instead of a
 *      round of their own (session.ts); the truncation mask's maker chosen by bytes and rounds where it is made
 *      inline (trunc.ts usesSplitMask); 2x2 stride-1 'valid' MaxPool compares each horizontal pair once
 *      (maxpool.ts separableM).
 *
 * revision.test.ts pins a fingerprint of the declared costs of reference runs to the revision: a change of the
 * messages that changes a declared cost fails it until the revision is raised (and its fingerprint recorded there).
 */
export const MALICIOUS_REVISION = 2;
