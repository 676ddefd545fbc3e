# The Rewind server. Build the jar first: mvn -B package -DskipTests
FROM eclipse-temurin:17-jre
COPY rewind-server/target/rewind-server.jar /opt/rewind/rewind-server.jar
VOLUME /data
EXPOSE 9090 9091
# Extra arguments given to `docker run IMAGE ...` replace these defaults.
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/rewind/rewind-server.jar"]
CMD ["--data-dir", "/data", "--command-endpoint", "tcp://0.0.0.0:9090", "--stream-endpoint", "tcp://0.0.0.0:9091"]
