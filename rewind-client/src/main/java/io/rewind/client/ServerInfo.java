package io.rewind.client;

/**
 * What the server says about itself.
 *
 * @param headPosition  global position of the newest event, -1 when the store is empty
 * @param streamCount   number of streams with at least one event
 * @param storageEngine "rocksdb" or "memory"
 * @param streamEndpoint the live feed's endpoint as the server bound it (a wildcard host means the
 *                       command endpoint's host), empty from a server that does not say
 */
public record ServerInfo(String version, long headPosition, long streamCount, String storageEngine,
        String streamEndpoint) {}
