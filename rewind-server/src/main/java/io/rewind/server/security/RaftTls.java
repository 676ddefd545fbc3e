package io.rewind.server.security;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The key material of a replicated group's Raft port: mutual TLS in which every member presents its
 * certificate and accepts a peer only if the peer's certificate is one of the group's, byte for byte
 * (pinned, as CURVE pins keys). A group either shares one key pair and certificate (what
 * {@code rewind raft-keygen} makes: one file, copied to every member) or gives each member its own and
 * lists all of their certificates as trusted. Host names are not checked: a certificate is the
 * member's identity wherever it runs, and whoever holds a trusted key is a member.
 *
 * <p>The file format is PEM: a {@code PRIVATE KEY} (PKCS#8: EC, RSA or Ed25519) and its
 * {@code CERTIFICATE}, in one file; the trusted file holds one or more {@code CERTIFICATE}s.
 *
 * @param certificate this member's certificate, presented to every peer
 * @param trusted     the certificates a peer may present
 */
public record RaftTls(Path file, PrivateKey privateKey, X509Certificate certificate, List<X509Certificate> trusted) {
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)-----END \\1-----");
    private static final String ALIAS = "rewind-member";
    private static final long REFUSAL_LOG_NANOS = 10_000_000_000L;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RaftTls.class);

    public RaftTls {
        trusted = List.copyOf(trusted);
    }

    /**
     * Reads a member's key and certificate, and the certificates it trusts ({@code trustedFile}, or when
     * null its own certificate alone); throws {@link IllegalArgumentException} naming the file and what is wrong.
     */
    public static RaftTls load(Path file, Path trustedFile) {
        List<Block> blocks = blocks(file);
        List<byte[]> keys = blocks.stream().filter(b -> b.type().equals("PRIVATE KEY")).map(Block::der).toList();
        List<X509Certificate> certificates = certificates(file, blocks);
        if (blocks.stream().anyMatch(b -> b.type().endsWith("PRIVATE KEY") && !b.type().equals("PRIVATE KEY"))) {
            throw new IllegalArgumentException(file + " holds a private key in a legacy format; convert it to"
                    + " PKCS#8 (openssl pkcs8 -topk8 -nocrypt), or make new key material with `rewind raft-keygen`");
        }
        if (keys.size() != 1 || certificates.size() != 1) {
            throw new IllegalArgumentException(file + " must hold one PRIVATE KEY and one CERTIFICATE (PEM), as"
                    + " `rewind raft-keygen` writes them; it holds " + keys.size() + " keys and " + certificates.size()
                    + " certificates");
        }
        X509Certificate certificate = certificates.get(0);
        PrivateKey key = privateKey(file, keys.get(0), certificate.getPublicKey().getAlgorithm());
        checkPair(file, key, certificate);
        List<X509Certificate> trusted = trustedFile == null ? List.of(certificate)
                : certificates(trustedFile, blocks(trustedFile));
        if (trusted.isEmpty()) {
            throw new IllegalArgumentException(trustedFile + " holds no CERTIFICATE (PEM): list the certificate of"
                    + " every member of the group");
        }
        if (trusted.stream().noneMatch(c -> Arrays.equals(encoded(c), encoded(certificate)))) {
            throw new IllegalArgumentException(trustedFile + " does not list this member's own certificate (from "
                    + file + "): the other members would refuse it, as it refuses them");
        }
        return new RaftTls(file, key, certificate, trusted);
    }

    /** The file and the certificate's fingerprint: never the key, nor the whole certificate, in a log line. */
    @Override
    public String toString() {
        return "RaftTls[" + file + ", certificate " + certificate.getSubjectX500Principal() + " " + fingerprint()
                + ", " + trusted.size() + " trusted]";
    }

    /** The SHA-256 fingerprint of this member's certificate, as hex, for logs. */
    public String fingerprint() {
        return fingerprint(certificate);
    }

    static String fingerprint(X509Certificate certificate) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(encoded(certificate));
            return HexFormat.ofDelimiter(":").formatHex(digest, 0, 8) + ":...";
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Presents this member's certificate to every peer, whatever issuers the peer asks for. */
    public X509ExtendedKeyManager keyManager() {
        return new X509ExtendedKeyManager() {
            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return new String[] {ALIAS};
            }

            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return ALIAS;
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return new String[] {ALIAS};
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return ALIAS;
            }

            @Override
            public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
                return ALIAS;
            }

            @Override
            public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
                return ALIAS;
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return ALIAS.equals(alias) ? new X509Certificate[] {certificate} : null;
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return ALIAS.equals(alias) ? privateKey : null;
            }
        };
    }

    /**
     * Accepts a peer, client or server, only if the certificate it presents is one of the trusted ones;
     * TLS itself proves that the peer holds its private key.
     */
    public X509ExtendedTrustManager trustManager() {
        List<byte[]> pinned = trusted.stream().map(RaftTls::encoded).toList();
        java.util.concurrent.atomic.AtomicLong lastRefusalLog = new java.util.concurrent.atomic.AtomicLong(
                System.nanoTime() - 2 * REFUSAL_LOG_NANOS);
        return new X509ExtendedTrustManager() {
            private void check(X509Certificate[] chain) throws CertificateException {
                if (chain == null || chain.length == 0) {
                    throw new CertificateException("the peer presented no certificate; members of a Rewind group"
                            + " present the group's");
                }
                byte[] presented = chain[0].getEncoded();
                for (byte[] trustedCertificate : pinned) {
                    if (Arrays.equals(presented, trustedCertificate)) {
                        return;
                    }
                }
                String why = "the peer's certificate (" + chain[0].getSubjectX500Principal() + ", "
                        + fingerprint(chain[0]) + ") is not one of this group's; refused";
                long now = System.nanoTime();
                long last = lastRefusalLog.get();
                // Said at most every 10 s: whoever reaches the port may try again and again.
                if (now - last > REFUSAL_LOG_NANOS && lastRefusalLog.compareAndSet(last, now)) {
                    log.warn("Raft port: refused a peer: {}", why);
                }
                throw new CertificateException(why);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                check(chain);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                check(chain);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                    throws CertificateException {
                check(chain);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                    throws CertificateException {
                check(chain);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                    throws CertificateException {
                check(chain);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                    throws CertificateException {
                check(chain);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return trusted.toArray(X509Certificate[]::new);
            }
        };
    }

    /**
     * New key material for a group (or one member): an EC P-256 key pair and a self-signed certificate
     * for it, valid without end (it is pinned, never checked against a date or a name), as PEM.
     *
     * @param name the certificate's common name, e.g. the group's or the member's name
     */
    public static String generate(String name) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair pair = generator.generateKeyPair();
            byte[] certificate = SelfSigned.certificate(pair, name, ZonedDateTime.now(ZoneOffset.UTC).minusDays(1));
            return pem("PRIVATE KEY", pair.getPrivate().getEncoded()) + pem("CERTIFICATE", certificate);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot make an EC P-256 key pair: " + e.getMessage(), e);
        }
    }

    /** The certificate block of PEM key material (what the other members of a group list as trusted). */
    public static String certificatePem(String keyMaterial) {
        Matcher matcher = PEM.matcher(keyMaterial);
        while (matcher.find()) {
            if (matcher.group(1).equals("CERTIFICATE")) {
                return matcher.group() + "\n";
            }
        }
        throw new IllegalArgumentException("no CERTIFICATE in the key material");
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private record Block(String type, byte[] der) {}

    private static List<Block> blocks(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getClass().getSimpleName() + " "
                    + e.getMessage(), e);
        }
        List<Block> blocks = new ArrayList<>();
        Matcher matcher = PEM.matcher(text);
        while (matcher.find()) {
            try {
                blocks.add(new Block(matcher.group(1), Base64.getMimeDecoder().decode(matcher.group(2))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": a " + matcher.group(1) + " block is not base64: "
                        + e.getMessage(), e);
            }
        }
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no PEM block (-----BEGIN ...-----); make the group's key"
                    + " material with `rewind raft-keygen`");
        }
        return blocks;
    }

    private static List<X509Certificate> certificates(Path file, List<Block> blocks) {
        List<X509Certificate> certificates = new ArrayList<>();
        for (Block block : blocks) {
            if (block.type().equals("CERTIFICATE")) {
                try {
                    certificates.add((X509Certificate) CertificateFactory.getInstance("X.509")
                            .generateCertificate(new ByteArrayInputStream(block.der())));
                } catch (CertificateException e) {
                    throw new IllegalArgumentException(file + ": a CERTIFICATE block is not an X.509 certificate: "
                            + e.getMessage(), e);
                }
            }
        }
        return certificates;
    }

    private static PrivateKey privateKey(Path file, byte[] pkcs8, String algorithm) {
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + ": the PRIVATE KEY is not a PKCS#8 " + algorithm + " key (the"
                    + " certificate's): " + e.getMessage(), e);
        }
    }

    /** Signs with the key and verifies with the certificate: a key of another pair is refused at start. */
    private static void checkPair(Path file, PrivateKey key, X509Certificate certificate) {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "EdDSA", "Ed25519" -> "Ed25519";
            default -> throw new IllegalArgumentException(file + ": a " + key.getAlgorithm() + " key; use EC, RSA"
                    + " or Ed25519");
        };
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(challenge);
            if (!verifier.verify(signature)) {
                throw new IllegalArgumentException(file + ": the PRIVATE KEY does not belong to the CERTIFICATE");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(file + ": cannot check the key against the certificate: "
                    + e.getMessage(), e);
        }
    }

    private static byte[] encoded(X509Certificate certificate) {
        try {
            return certificate.getEncoded();
        } catch (CertificateException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The smallest X.509 v3 certificate a TLS stack takes: self-signed with ECDSA over SHA-256, no
     * extensions (the JDK has no public API to make one, and this is all that pinning needs).
     */
    static final class SelfSigned {
        private static final byte[] ECDSA_WITH_SHA256 = oid(1, 2, 840, 10045, 4, 3, 2);
        private static final byte[] COMMON_NAME = oid(2, 5, 4, 3);

        private SelfSigned() {}

        static byte[] certificate(KeyPair pair, String name, ZonedDateTime notBefore) throws GeneralSecurityException {
            byte[] serial = new byte[16];
            new SecureRandom().nextBytes(serial);
            serial[0] = (byte) (serial[0] & 0x3f | 0x40);
            byte[] algorithm = sequence(ECDSA_WITH_SHA256);
            byte[] subject = sequence(tlv(0x31, sequence(COMMON_NAME, tlv(0x0c, name.getBytes(StandardCharsets.UTF_8)))));
            byte[] validity = sequence(
                    tlv(0x17, notBefore.format(DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'"))
                            .getBytes(StandardCharsets.US_ASCII)),
                    // RFC 5280 4.1.2.5: no well-defined expiration date.
                    tlv(0x18, "99991231235959Z".getBytes(StandardCharsets.US_ASCII)));
            byte[] tbs = sequence(
                    tlv(0xa0, tlv(0x02, new byte[] {2})),
                    tlv(0x02, new BigInteger(serial).toByteArray()),
                    algorithm, subject, validity, subject,
                    pair.getPublic().getEncoded());
            Signature signer = Signature.getInstance("SHA256withECDSA");
            signer.initSign(pair.getPrivate());
            signer.update(tbs);
            byte[] signature = signer.sign();
            byte[] bits = new byte[signature.length + 1];
            System.arraycopy(signature, 0, bits, 1, signature.length);
            return sequence(tbs, algorithm, tlv(0x03, bits));
        }

        private static byte[] oid(int... arcs) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(arcs[0] * 40 + arcs[1]);
            for (int i = 2; i < arcs.length; i++) {
                int arc = arcs[i];
                int shift = 28;
                while (shift > 0 && (arc >>> shift) == 0) {
                    shift -= 7;
                }
                for (; shift > 0; shift -= 7) {
                    out.write(0x80 | (arc >>> shift) & 0x7f);
                }
                out.write(arc & 0x7f);
            }
            return tlv(0x06, out.toByteArray());
        }

        private static byte[] sequence(byte[]... parts) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (byte[] part : parts) {
                out.writeBytes(part);
            }
            return tlv(0x30, out.toByteArray());
        }

        private static byte[] tlv(int tag, byte[] value) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 6);
            out.write(tag);
            int length = value.length;
            if (length < 0x80) {
                out.write(length);
            } else if (length < 0x100) {
                out.write(0x81);
                out.write(length);
            } else {
                out.write(0x82);
                out.write(length >>> 8);
                out.write(length & 0xff);
            }
            out.writeBytes(value);
            return out.toByteArray();
        }
    }
}
