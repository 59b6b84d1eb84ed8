/** Characters on the wire per byte: start bit, data bits, parity bit, stop bits. */
export function bitsPerChar(dataBits: number, parity: 'none' | 'even' | 'odd', stopBits: number): number {
  return 1 + dataBits + (parity === 'none' ? 0 : 1) + stopBits;
}

/** Milliseconds `bytes` take on a serial line. */
export function wireTimeMs(bytes: number, baud: number, bitsPerCharacter = 10): number {
  return (bytes * bitsPerCharacter * 1000) / baud;
}

/** The RTU inter-frame silence: 3.5 characters, fixed at 1.75 ms above 19200 baud. */
export function rtuSilenceMs(baud: number, bitsPerCharacter = 10): number {
  return baud > 19200 ? 1.75 : wireTimeMs(3.5, baud, bitsPerCharacter);
}
