/// Which release this build is: `firstcontact --version` and the name `scripts/package.sh` gives
/// the tarball. Raised on each release, next to the released-migrations list
/// (`Tests/Fixtures/upgrade/released-migrations.txt`).
public enum Release {
    public static let version = "2.0.0-dev"
}
