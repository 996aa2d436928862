import FirstContactCore

/// One simulated call as the live player posts it: what tests and the player's log look at.
package struct LiveCall: Hashable, Sendable {
    package var start: Timestamp
    /// When the PBX writes its records: the player posts them then.
    package var end: Timestamp
    /// The queue's department for calls through a queue (the first queue, before a transfer).
    package var department: DepartmentID?
    package var throughQueue: Bool
    package var answered: Bool
}

/// What is due at one moment: the calls that ended, and their records in the formats a PBX and
/// its IVR write, one body per `POST /v1/ingest/<format>`.
package struct LiveBatch: Sendable {
    package var calls: [LiveCall] = []
    /// In posting order: IVR events, then queue_log, then the CDRs, as a PBX writes them during
    /// and at the end of a call. Formats without records are left out.
    package var bodies: [(format: InputFormat, body: String)] = []
    package var isEmpty: Bool { self.calls.isEmpty }
}

/// `firstcontact simulate --live`: the simulated hotline as an endless timeline of calls on the
/// wall clock, decided by the same stories as ``Simulator/run(seed:calls:date:outputDirectory:formats:)``.
///
/// Arrivals follow the day's hourly profile (``Simulator/hourWeights``) on a *profile clock*:
/// - Before `now` the profile runs at real pace, so the hours of today that have passed are
///   today's traffic, and ``due(upTo:)`` at `now` returns all of it (the seed).
/// - After `now` the profile runs `speed` times faster: arrivals come `speed` times as often and
///   the day's peaks and lulls pass `speed` times sooner; at the end of the profile day the next
///   one starts. Each customer's story, once arrived, unfolds at real pace (rings, waits,
///   callbacks at their share of the SLA in business time), because the server's clocks and
///   deadlines run on the real clock.
/// - At night (the profile hours outside 08:00–18:00) the profile clock is shifted so that `now`
///   plays as 15:00: what has passed is a whole working morning and the traffic is a working
///   afternoon's (`playsAs` chooses the hour instead, whatever the time: a test's traffic does not
///   depend on when it runs). Record times are never shifted; whether the office is open is the configured
///   calendar's answer at the real time (stories decide after-hours misses as the simulator does).
///
/// Deterministic given (seed, rate, speed, now): story `i` of profile day `k` is story index
/// `k × rate + i`, drawn from its own generator as in the day simulator.
package struct LiveSchedule {
    package let now: Timestamp
    /// Profile time minus wall time before `now`.
    package let shift: Int64
    private let profileNow: Timestamp
    private let profileDate: CivilDate
    private let rate: Int
    private let speed: Double
    private let seed: UInt64
    private let zone: ZoneRules
    private let builder: StoryBuilder
    private var writer: AsteriskWriter
    private let ivr = IVRWriter()

    /// Arrivals of the loaded profile day from `cursor` on, in wall-time order.
    private var arrivals: [(wall: Timestamp, index: Int)] = []
    private var cursor = 0
    private var loadedDay = -1
    /// Calls of arrived stories not yet due, by (end, key).
    private var pending: [SimCall] = []

    /// - Parameters:
    ///   - rate: customers per profile day (spread over the day's hours like the day simulator's).
    ///   - speed: how many times faster than real the profile runs after `now` (≥ 1).
    ///   - playsAs: the time of the profile day that `now` plays as; nil: the local time, or 15:00 at night.
    package init(
        configuration: FirstContactConfiguration, seed: UInt64, rate: Int, speed: Double, now: Timestamp,
        playsAs: CivilTime? = nil
    ) {
        let directory = Directory(configuration: configuration)
        self.now = now
        self.rate = max(1, rate)
        self.speed = max(1, speed)
        self.seed = seed
        self.zone = configuration.timezone
        let local = configuration.timezone.local(now)
        let night = !(8..<18).contains(local.time.secondOfDay / 3600)
        let plays = playsAs ?? (night ? CivilTime(hour: 15, minute: 0) : local.time)
        self.shift = Int64(plays.secondOfDay - local.time.secondOfDay)
        self.profileNow = now + self.shift
        self.profileDate = configuration.timezone.local(self.profileNow).date
        // Stories end when their calls do: nothing is cut off by a day's end.
        self.builder = StoryBuilder(directory: directory, lastMoment: now + 10 * 366 * 86_400)
        self.writer = AsteriskWriter(
            directory: directory, zone: configuration.asterisk.usegmtime ? .utc : configuration.timezone)
    }

    /// When something next falls due after what ``due(upTo:)`` has returned: a story's arrival
    /// or a call's end.
    package mutating func nextTime() -> Timestamp {
        self.loadIfNeeded()
        let arrival = self.arrivals[self.cursor].wall
        guard let call = self.pending.first else { return arrival }
        return min(arrival, call.end)
    }

    /// Every call that ended by `time` and was not returned before, with its records. The first
    /// call, with `time` = `now`, returns the seed: the calls of today's hours that have passed.
    /// - Parameter maximumCalls: at most this many (the earliest); the rest come with the next call.
    package mutating func due(upTo time: Timestamp, maximumCalls: Int = .max) -> LiveBatch {
        while true {
            self.loadIfNeeded()
            let (wall, index) = self.arrivals[self.cursor]
            guard wall <= time else { break }
            self.cursor += 1
            var rng = Simulator.generator(self.seed, index, 1)
            for call in self.builder.build(index: index, start: wall, rng: &rng).calls {
                self.insert(call)
            }
        }
        var batch = LiveBatch()
        var (queueLog, cdr, ivr) = ("", "", "")
        var taken = 0
        while taken < maximumCalls, taken < self.pending.count, self.pending[taken].end <= time {
            let call = self.pending[taken]
            taken += 1
            let (rows, lines) = self.writer.records(of: call)
            for row in rows { cdr += row + "\n" }
            for line in lines { queueLog += line + "\n" }
            for event in self.ivr.events(of: call) { ivr += event + "\n" }
            batch.calls.append(
                LiveCall(
                    start: call.start, end: call.end, department: call.department, throughQueue: call.shape == .queue,
                    answered: call.answered))
        }
        self.pending.removeFirst(taken)
        if !ivr.isEmpty { batch.bodies.append((.ivrEvents, IVRWriter.header + ivr + IVRWriter.footer)) }
        if !queueLog.isEmpty { batch.bodies.append((.asteriskQueueLog, queueLog)) }
        if !cdr.isEmpty { batch.bodies.append((.asteriskCSV, cdr)) }
        return batch
    }

    private mutating func insert(_ call: SimCall) {
        // Few calls wait at a time (a few per customer in the last hours): a sorted array will do.
        var low = 0
        var high = self.pending.count
        while low < high {
            let mid = (low + high) / 2
            let other = self.pending[mid]
            if (other.end, other.key) < (call.end, call.key) { low = mid + 1 } else { high = mid }
        }
        self.pending.insert(call, at: low)
    }

    /// Loads the next profile day's arrivals when the loaded ones are used up. Day 0 is the
    /// profile day of `now`: its arrivals before `now` keep their real times, the rest are
    /// compressed by `speed` like every later day's.
    private mutating func loadIfNeeded() {
        while self.cursor >= self.arrivals.count {
            self.loadedDay += 1
            let day = self.loadedDay
            let dayStart = self.zone.instant(self.profileDate.adding(days: day), CivilTime(secondOfDay: 0))
            let hours = Simulator.hourWeights.enumerated().map { ($0.offset, $0.element) }
            var loaded: [(profile: Timestamp, index: Int)] = []
            loaded.reserveCapacity(self.rate)
            for i in 0..<self.rate {
                let index = day * self.rate + i
                var rng = Simulator.generator(self.seed, index, 0)
                let hour = StoryBuilder.weighted(hours, &rng)
                loaded.append((dayStart + Int64(hour * 3600) + rng.seconds(0...3599), index))
            }
            loaded.sort { ($0.profile, $0.index) < ($1.profile, $1.index) }
            self.arrivals = loaded.map {
                ($0.profile <= self.profileNow ? $0.profile - self.shift : self.wall($0.profile), $0.index)
            }
            self.cursor = 0
        }
    }

    private func wall(_ profile: Timestamp) -> Timestamp {
        self.now + Int64((Double(profile - self.profileNow) / self.speed).rounded(.up))
    }
}
