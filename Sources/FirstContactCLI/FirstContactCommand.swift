import ArgumentParser
@main struct FirstContactCommand: ParsableCommand {}
