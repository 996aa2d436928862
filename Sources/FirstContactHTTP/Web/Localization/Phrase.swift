import FirstContactCore

/// Every fixed sentence, label and heading of the web pages and the CLI's tables: one key each,
/// written once per ``Language`` in ``Catalogue``. `{1}`, `{2}` … stand for the arguments in the
/// order ``Localizer`` receives them; a language may place them in another order.
package enum Phrase: CaseIterable, Sendable {
    // Layout
    case skipToContent, pagesNavigation, navMyWork, navBoard, navViolations, navFigures, signOut, back
    case noSuchLanguage
    // Sign-in
    case signInTitle, signInPrompt, token, signInButton, signInExpired, unknownToken, roleCannotSignIn
    case signInTooMany
    case formNotFromSession
    // Board
    case boardTitle, boardHeading, totalOpen, totalOverdue, totalAtRisk, connecting, boardCaption
    case columnDue, columnKind, columnCustomer, columnOwedBy, columnDepartment, columnState, columnAttempts
    case columnMissed, columnEscalation, columnDueAt, pageOf, previousPage, nextPage
    case filters, filterDepartment, filterState, filterKind, filterOwner, filterAll, filterAnyone
    case filterDepartmentOwner, apply, clear
    case standingOverdue, standingAtRisk, standingOnTime, standingAwaitingAck
    case notAcknowledged, acknowledgedAt
    // Contact
    case contactHeading, status, category, channel, firstResponder, firstResponderDetail, noneYet, opened
    case repeatOf, rangNoAnswer, obligations, columnID, columnAcknowledgeBy, columnSatisfied, acknowledgedParen
    case satisfiedBy, calls, stepsInTrail, noCalls, violations, violationAt, reviewedBy, notReviewed, why
    case acknowledge, mayNotOpenContact
    // Actions on a contact
    case act, note, addNote, howSettled, resolve, referredTo, customerWasTold, referOut, toDepartment
    case agentOptional, customerUnit, name, phone, matter, place, handOff, newFirstResponder, reason
    case reassign, complaintAbout, recordComplaint, agentDefaultFirstResponder, whatHappened, recordPoorService
    case notFound, noSuchAction, mayNotActOnContact, nameTheAgent, notRecorded
    // My work
    case myWorkTitle, myWorkHeading, myWorkNotAgent, handoffsWaiting, nothingToAcknowledge, owedByMe
    case nothingOwed, myOpenContacts, columnContact, columnLastActivity, noOpenContacts, onlyAgentAcknowledges
    case incomingCall, openTheContact
    case mayNotActOnObligation, notAcknowledgedTitle
    // Violations
    case violationsTitle, violationsHeading, awaitingReview, inTotal, showReviewedToo, onlyAwaitingReview
    case columnWhen, columnCategory, columnAgent, columnReview, remediedLate, decision, reviewReason, record
    case reviewedBySupervisors, chooseDecision, mayNotReviewViolation
    // Figures
    case figuresTitle, period, from, toInclusive, show, slaPerDepartment, slaExplanation, callbacksDue, onTime
    case late, breached, exhausted, open, attainment, handoffsDue, agents, praiseAndAccountability
    case firstResponded, settled, firstContactResolution, callbacksOnTime, handoffsAcknowledged
    case acknowledgeMedianP90, acceptedViolations, excusedDismissedUnreviewed, noAgentsInScope, chartBar
    case forbidden
    // Countdowns and the live stream (the pages' script)
    case dueIn, dueLate, live, reconnecting, updatedAt, updateFailed
    // CLI
    case cliContact, cliCustomer, cliStatus, cliDepartment, cliFirstResponder, cliBound, cliVia
    case cliObligations, cliContactCount, cliLimitReached, cliObligation, cliKind, cliOwner, cliCreated
    case cliDue, cliState, cliRisk, cliAttempts, cliMissed, cliEscalation, cliAtRisk, cliObligationCount
    case cliFirstShown, cliViolation, cliCategory, cliAgent, cliAt, cliReview, cliReviewedBy, cliViolationSummary
    case explainContact, explainStatus, explainRepeatOf, explainResponder, explainNoResponder, explainRang
    case explainCalls, explainObligation, explainOwnerAgent, explainOwnerDepartment, explainViolation
    case explainWhy
}
