import Calypso
import PurserRuntime

// Calypso classifies its failures once (5xx, 429, `000`, timeouts and connection failures are transient);
// the runtime retries exactly those.
extension CalypsoError: RetryClassifiedError {}
