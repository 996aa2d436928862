import FirstContactCore
import FirstContactIngest
import Foundation
import Testing

@Suite("InputFormatDetector: format from a file's name and first bytes")
struct InputFormatDetectorTests {
    struct HeadCase: CustomTestStringConvertible, Sendable {
        var name: String
        var path: String
        var head: String
        var format: InputFormat?
        var testDescription: String { self.name }
    }

    @Test(
        "recognises each format by its first non-empty line",
        arguments: [
            HeadCase(
                name: "queue_log system line",
                path: "queue_log",
                head: "1767569446|NONE|NONE|NONE|QUEUESTART|\n",
                format: .asteriskQueueLog
            ),
            HeadCase(
                name: "queue_log after blank lines",
                path: "q",
                head: "\n\r\n1772413201|1772413200.1|hotline|NONE|ENTERQUEUE||1|1\n",
                format: .asteriskQueueLog
            ),
            HeadCase(
                name: "quoted cdr_csv row",
                path: "Master.csv",
                head: #""","1001","2000","internal""#,
                format: .asteriskCSV
            ),
            HeadCase(
                name: "unquoted 16-field CSV",
                path: "x.csv",
                head: "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n",
                format: .asteriskCSV
            ),
            HeadCase(name: "short unquoted CSV", path: "x.csv", head: "a,b,c\n", format: nil),
            HeadCase(
                name: "XML CDR",
                path: "a.xml",
                head: "<?xml version=\"1.0\"?>\n<cdr core-uuid=\"x\">",
                format: .freeswitchXMLCDR
            ),
            HeadCase(
                name: ".cdr.xml name",
                path: "/var/log/x/abc.cdr.xml",
                head: "<?xml version=\"1.0\"?>\n<!-- -->",
                format: .freeswitchXMLCDR
            ),
            HeadCase(
                name: "event-socket XML",
                path: "events.xml",
                head: "<event>\n  <headers>",
                format: .freeswitchEvents
            ),
            HeadCase(
                name: "IVR event XML",
                path: "ivr.xml",
                head: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ivr-events>",
                format: .ivrEvents
            ),
            HeadCase(
                name: "event-plain with Content-Length",
                path: "esl.txt",
                head: "Content-Length: 512\nContent-Type: text/event-plain\n",
                format: .freeswitchEvents
            ),
            HeadCase(
                name: "event-plain headers",
                path: "esl.txt",
                head: "Event-Name: CHANNEL_DATA\n",
                format: .freeswitchEvents
            ),
            HeadCase(
                name: "UTF-8 BOM before a CSV row",
                path: "Master.csv",
                head: "\u{FEFF}\"\",\"1001\"",
                format: .asteriskCSV
            ),
            HeadCase(
                name: "cel_custom CSV with epoch.microseconds times is Asterisk CEL, not a CDR file",
                path: "Master.csv",
                head: #""CHAN_START","1335310195.513823","","""#,
                format: .asteriskCEL
            ),
            HeadCase(
                name: "cel_custom CSV with a dateformat (%F %T) is Asterisk CEL",
                path: "cel-custom/Master.csv",
                head: #""ANSWER","2026-11-27 09:00:01","Zhang","13800000001","""#,
                format: .asteriskCEL
            ),
            HeadCase(
                name: "a CDR row with an upper-case accountcode stays a CDR",
                path: "Master.csv",
                head: #""SALES","1001","2000","from-internal","""#,
                format: .asteriskCSV
            ),
            HeadCase(name: "psql table", path: "cel.txt", head: "eventtype | eventtime\n", format: nil),
            HeadCase(name: "empty file", path: "x", head: "", format: nil),
            HeadCase(name: "prose", path: "README", head: "hello world\n", format: nil),
            HeadCase(name: "unknown XML", path: "pom.xml", head: "<project>", format: nil),
        ]
    )
    func heads(_ testCase: HeadCase) {
        #expect(InputFormatDetector.detect(path: testCase.path, head: Array(testCase.head.utf8)) == testCase.format)
    }

    struct CorpusCase: CustomTestStringConvertible, Sendable {
        var folder: String
        var format: InputFormat?
        var testDescription: String { "\(self.folder) → \(self.format?.rawValue ?? "nil")" }
    }

    @Test(
        "classifies the real files of each corpus folder",
        .tags(.corpus),
        arguments: [
            CorpusCase(folder: "asterisk-csv", format: .asteriskCSV),
            CorpusCase(folder: "asterisk-csv/cdr_custom", format: .asteriskCSV),
            CorpusCase(folder: "asterisk-queue-log", format: .asteriskQueueLog),
            CorpusCase(folder: "freeswitch-xml-cdr", format: .freeswitchXMLCDR),
            CorpusCase(folder: "freeswitch-esl-plain", format: .freeswitchEvents),
            CorpusCase(folder: "asterisk-cel", format: .asteriskCEL),
            CorpusCase(folder: "asterisk-cel/wazo-psql", format: nil),
        ]
    )
    func corpus(_ testCase: CorpusCase) throws {
        let files = TestFiles.corpusFiles(in: testCase.folder)
        #expect(!files.isEmpty)
        for name in files {
            let url = TestFiles.corpus.appendingPathComponent("\(testCase.folder)/\(name)")
            let head = Array(try Data(contentsOf: url).prefix(InputFormatDetector.headLength))
            #expect(InputFormatDetector.detect(path: url.path, head: head) == testCase.format, "\(name)")
        }
    }
}
