package io.rewind.cli;

import io.rewind.server.security.RaftTls;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "raft-keygen", mixinStandardHelpOptions = true,
        description = {"Make the key material of a replicated group's Raft port (mutual TLS): NAME.pem holds an EC"
                + " P-256 private key and its self-signed certificate, readable by its owner only; NAME.crt the"
                + " certificate alone. Copy NAME.pem to every member and give each --raft-tls NAME.pem: members then"
                + " accept only peers that hold it. For a key per member, run it once per member and give each"
                + " --raft-tls-trusted with every member's .crt in one file. Existing files are never overwritten."})
final class RaftKeygenCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "Path of the files without their extension, e.g. keys/orders-group;"
            + " its file name is the certificate's common name.")
    Path name;

    @Override
    public Integer call() throws IOException {
        Path key = name.resolveSibling(name.getFileName() + ".pem");
        Path certificate = name.resolveSibling(name.getFileName() + ".crt");
        for (Path file : new Path[] {key, certificate}) {
            if (Files.exists(file)) {
                throw new IllegalArgumentException(file + " already exists; raft-keygen never overwrites a key");
            }
        }
        String material = RaftTls.generate(name.getFileName().toString());
        if (name.toAbsolutePath().getParent() != null) {
            Files.createDirectories(name.toAbsolutePath().getParent());
        }
        // Readable by its owner only before a byte of the key is in it.
        Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(key, material, StandardCharsets.US_ASCII);
        Files.writeString(certificate, RaftTls.certificatePem(material), StandardCharsets.US_ASCII);
        RaftTls loaded = RaftTls.load(key, null);
        PrintWriter out = spec.commandLine().getOut();
        out.println("Wrote " + key + " (key and certificate, for --raft-tls) and " + certificate + " (certificate "
                + loaded.fingerprint() + ", for --raft-tls-trusted)");
        out.flush();
        return 0;
    }
}
