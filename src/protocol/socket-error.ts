import { getSystemErrorName } from 'node:util';

/**
 * The error node itself gives a socket whose read or write fails (`read ECONNRESET`,
 * `write EPIPE`), for the calls tandem makes past node's stream: the socket's owners tell a
 * hang-up from a fault by its `code`, as they do for node's own.
 */
export function socketError(syscall: 'read' | 'write', errno: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(errno);
  return Object.assign(new Error(`${syscall} ${code}`), { errno, code, syscall });
}
