package io.rewind.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;
import org.zeromq.ZCert;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "keygen", mixinStandardHelpOptions = true,
        description = {"Make a CurveZMQ key pair in the ZeroMQ certificate format (as czmq's zcert and JeroMQ's ZCert"
                + " write it): NAME holds the public key, NAME_secret both keys, readable by its owner only. Prints"
                + " the public key. Existing files are never overwritten."})
final class KeygenCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NAME", description = "Path of the public certificate; the secret one gets _secret.")
    Path name;

    @Option(names = "--comment", paramLabel = "TEXT", description = "Written into both files as metadata (e.g. who"
            + " the key is for).")
    String comment;

    @Override
    public Integer call() throws IOException {
        Path secret = name.resolveSibling(name.getFileName() + "_secret");
        for (Path file : new Path[] {name, secret}) {
            if (Files.exists(file)) {
                throw new IllegalArgumentException(file + " already exists; keygen never overwrites a key");
            }
        }
        ZCert cert = new ZCert();
        if (comment != null) {
            cert.setMeta("comment", comment);
        }
        if (name.toAbsolutePath().getParent() != null) {
            Files.createDirectories(name.toAbsolutePath().getParent());
        }
        // The secret file is created readable by its owner only before a byte of the key is in it.
        Files.createFile(secret, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (var writer = Files.newBufferedWriter(secret)) {
            cert.saveSecret(writer);
        }
        try (var writer = Files.newBufferedWriter(name)) {
            cert.savePublic(writer);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(cert.getPublicKeyAsZ85());
        out.flush();
        return 0;
    }
}
