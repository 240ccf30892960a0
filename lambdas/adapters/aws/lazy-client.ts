/**
 * An SDK client made at its first `send`, for a client a function needs only on a rare path
 * (parking a throttled write on SQS, downloading the fallback model): requiring a client's package
 * costs milliseconds to tens of milliseconds of the cold start, which the requests that never take
 * that path should not pay. A failed make is not remembered: the next send tries again.
 */
export function lazyClient<C extends { send: (...args: never[]) => unknown }>(make: () => Promise<C>): Pick<C, 'send'> {
  let made: Promise<C> | undefined;
  const client = () => {
    made ??= make().catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    return made;
  };
  const send = async (...args: Parameters<C['send']>) => (await client()).send(...args);
  return { send } as unknown as Pick<C, 'send'>;
}
