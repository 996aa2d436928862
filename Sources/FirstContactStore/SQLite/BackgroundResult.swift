import Dispatch
import Synchronization

/// A value computed on a global dispatch queue while the calling thread goes on; ``take()`` blocks
/// until it is there. For work beside SQLite's writer, whose transactions are synchronous closures
/// on one thread and cannot await a task.
final class BackgroundResult<Value: Sendable>: Sendable {
    private let result = Mutex<Value?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ work: @escaping @Sendable () -> Value) {
        DispatchQueue.global().async {
            let value = work()
            self.result.withLock { $0 = value }
            self.done.signal()
        }
    }

    /// Waits for the value and takes it; call once.
    func take() -> Value {
        self.done.wait()
        guard let value = self.result.withLock({ $0.take() }) else {
            preconditionFailure("BackgroundResult taken twice")
        }
        return value
    }
}
