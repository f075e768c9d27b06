/**
 * The INIT limit for embedded runtimes in tests. Lambda's is 10 s (`lambdaLimits.initTimeoutS`), about
 * AWS hardware; a function process here (Node, the tsx loader, the handler's imports) has taken
 * longer than that to initialise on a shared 2-core machine at load average ~58, failing tests that
 * are not about INIT at all. Tests that check the limit itself set their own.
 */
export const loadedInitTimeoutMs = 60_000;
