import FirstContactCore
import FirstContactSimulator
import Testing

@Suite("simulate --live: the schedule the player posts")
struct LiveScheduleTests {
    /// A Wednesday morning in the sample's zone, the office open.
    let morning = Timestamp(iso8601: "2026-12-02T11:00:00+08:00")

    func schedule(
        seed: UInt64 = 7, rate: Int = 2500, speed: Double = 1, now: Timestamp, playsAs: CivilTime? = nil
    ) throws -> LiveSchedule {
        LiveSchedule(
            configuration: try Fixture.engine().configuration, seed: seed, rate: rate, speed: speed, now: now,
            playsAs: playsAs)
    }

    /// Plays the schedule until `until`: every batch after the seed, with the time it was asked for.
    func play(_ schedule: inout LiveSchedule, until: Timestamp) -> [(at: Timestamp, batch: LiveBatch)] {
        var played: [(Timestamp, LiveBatch)] = []
        while true {
            let next = schedule.nextTime()
            guard next <= until else { return played }
            played.append((next, schedule.due(upTo: next)))
        }
    }

    @Test("the first batch is today's hours that have passed; then calls fall due one after another, later and later")
    func seedThenIncreasingTimes() throws {
        let now = try #require(self.morning)
        var schedule = try self.schedule(now: now)
        #expect(schedule.shift == 0)
        let seed = schedule.due(upTo: now)
        let midnight = try #require(Timestamp(iso8601: "2026-12-02T00:00:00+08:00"))
        #expect(seed.calls.count > 300)
        #expect(seed.calls.allSatisfy { $0.end <= now && $0.start >= midnight })
        #expect(seed.bodies.map { $0.format } == [.ivrEvents, .asteriskQueueLog, .asteriskCSV])
        // Asked again for the same moment: nothing twice.
        #expect(schedule.due(upTo: now).isEmpty)

        var previous = now
        var calls = 0
        var arrivedLater = 0
        for (at, batch) in self.play(&schedule, until: now + 3600) {
            #expect(at > previous)
            #expect(batch.calls.allSatisfy { $0.end > previous && $0.end <= at })
            calls += batch.calls.count
            arrivedLater += batch.calls.filter { $0.start > now }.count
            previous = at
        }
        // The next hour: calls that arrived before now and end later, and new customers' calls.
        #expect(calls > 100)
        #expect(arrivedLater > 100)
    }

    @Test("new customers arrive --speed times as often; the calls of each keep their real length")
    func speedCompressesArrivals() throws {
        let now = try #require(self.morning)
        func arrivals(speed: Double) throws -> (count: Int, longest: Int64) {
            var schedule = try self.schedule(speed: speed, now: now)
            _ = schedule.due(upTo: now)
            let calls = self.play(&schedule, until: now + 600).flatMap { $0.batch.calls }.filter {
                $0.start > now && $0.start <= now + 300
            }
            return (calls.count, calls.map { $0.end - $0.start }.max() ?? 0)
        }
        let real = try arrivals(speed: 1)
        let fast = try arrivals(speed: 30)
        #expect(fast.count > real.count * 10)
        // An answered call lasts minutes whatever the speed.
        #expect(fast.longest > 120)
    }

    @Test("calls are answered only while the department's calendar is open; after hours they are missed")
    func trafficKeepsToTheCalendar() throws {
        let now = try #require(self.morning)
        let configuration = try Fixture.engine().configuration
        let directory = Directory(configuration: configuration)
        var schedule = try self.schedule(speed: 4, now: now)
        var calls = schedule.due(upTo: now).calls
        calls += self.play(&schedule, until: now + 12 * 3600).flatMap { $0.batch.calls }
        func open(_ call: LiveCall) -> Bool? {
            guard call.throughQueue, let department = call.department else { return nil }
            switch directory.hours(of: department) {
            case .always: return nil
            case .calendar(let calendar): return calendar.isOpen(at: call.start)
            }
        }
        let answeredClosed = calls.filter { $0.answered && open($0) == false }
        let missedClosed = calls.filter { !$0.answered && open($0) == false }
        let answeredOpen = calls.filter { $0.answered && open($0) == true }
        #expect(answeredClosed.isEmpty, "answered while closed: \(answeredClosed.prefix(3))")
        // The lunch break and the evening (until 23:00 at 4x) are in the office's calendar too.
        #expect(missedClosed.count > 20)
        #expect(answeredOpen.count > 100)
    }

    @Test("the same seed and moment give the same posts; another seed other ones")
    func deterministic() throws {
        let now = try #require(self.morning)
        func bodies(seed: UInt64) throws -> [String] {
            var schedule = try self.schedule(seed: seed, now: now)
            var bodies = schedule.due(upTo: now).bodies.map { $0.body }
            bodies += self.play(&schedule, until: now + 900).flatMap { $0.batch.bodies }.map { $0.body }
            return bodies
        }
        #expect(try bodies(seed: 7) == bodies(seed: 7))
        #expect(try bodies(seed: 7) != bodies(seed: 8))
    }

    @Test("at night the day's traffic is shifted so that now plays as 15:00; record times stay real")
    func nightShift() throws {
        let now = try #require(Timestamp(iso8601: "2026-12-05T03:00:00+08:00"))
        var schedule = try self.schedule(now: now)
        #expect(schedule.shift == 12 * 3600)
        let seed = schedule.due(upTo: now)
        // 00:00-15:00 of the profile: more than half the day's customers.
        #expect(seed.calls.count > 1500)
        #expect(seed.calls.allSatisfy { $0.end <= now && $0.start >= now - 15 * 3600 })
    }

    @Test(
        "--plays-as chooses the hour of the traffic whatever the time: at 09:00 less of the day has passed than at 15:00"
    )
    func playsAs() throws {
        let now = try #require(self.morning)
        var nine = try self.schedule(now: now, playsAs: CivilTime(hour: 9, minute: 0))
        var three = try self.schedule(now: now, playsAs: CivilTime(hour: 15, minute: 0))
        #expect(nine.shift == -2 * 3600 && three.shift == 4 * 3600)
        let (early, late) = (nine.due(upTo: now).calls, three.due(upTo: now).calls)
        #expect(early.count * 2 < late.count)
        #expect(early.allSatisfy { $0.end <= now } && late.allSatisfy { $0.end <= now })
    }
}
