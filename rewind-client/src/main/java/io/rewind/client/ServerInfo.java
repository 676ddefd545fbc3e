package io.rewind.client;

/**
 * What the server says about itself.
 *
 * @param headPosition  global position of the newest event, -1 when the store is empty
 * @param streamCount   number of streams with at least one event
 * @param storageEngine "rocksdb" or "memory"
 */
public record ServerInfo(String version, long headPosition, long streamCount, String storageEngine) {}
