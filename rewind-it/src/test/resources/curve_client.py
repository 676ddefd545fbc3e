"""A Rewind client in Python over pyzmq (libzmq), speaking CURVE: what PROTOCOL.md tells a non-Java client.

Usage: curve_client.py COMMAND_ENDPOINT FEED_ENDPOINT SERVER_PUBLIC_CERT CLIENT_SECRET_CERT STREAM

Appends one event to STREAM, reads it back, and receives it on the live feed; prints one line per step
("append ok 0", "read ok", "feed ok", or what failed) and exits 0 only when every step worked. The
protobuf messages are encoded by hand: a few varints and length-delimited fields.
"""
import sys
import zmq
import zmq.auth


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited field (wire type 2): strings, bytes and embedded messages."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def uint(number, value):
    return varint(number << 3) + varint(value)


def fields(message):
    """The top-level fields of a message as (number, value): ints for varints, bytes for the rest."""
    result, i = [], 0
    while i < len(message):
        key, i = read_varint(message, i)
        number, kind = key >> 3, key & 7
        if kind == 0:
            value, i = read_varint(message, i)
        elif kind == 2:
            length, i = read_varint(message, i)
            value, i = message[i:i + length], i + length
        elif kind == 1:
            value, i = message[i:i + 8], i + 8
        elif kind == 5:
            value, i = message[i:i + 4], i + 4
        else:
            raise ValueError("unexpected wire type %d" % kind)
        result.append((number, value))
    return result


def read_varint(data, i):
    shift = value = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def call(dealer, request):
    dealer.send_multipart([b"", request])
    if not dealer.poll(10000):
        raise SystemExit("no reply within 10 s")
    empty, reply = dealer.recv_multipart()
    return dict(fields(reply))


def main():
    command, feed, server_cert, client_cert, stream = sys.argv[1:6]
    server_public, _ = zmq.auth.load_certificate(server_cert)
    client_public, client_secret = zmq.auth.load_certificate(client_cert)
    context = zmq.Context()

    def secure(socket):
        socket.curve_serverkey = server_public
        socket.curve_publickey = client_public
        socket.curve_secretkey = client_secret
        socket.linger = 0

    sub = context.socket(zmq.SUB)
    secure(sub)
    sub.setsockopt(zmq.SUBSCRIBE, stream.encode() + b"\0")
    sub.connect(feed)
    dealer = context.socket(zmq.DEALER)
    secure(dealer)
    dealer.connect(command)

    data = b"hello from pyzmq"
    event = field(2, b"Greeted") + field(3, data)
    append = field(1, stream.encode()) + field(3, event)
    reply = call(dealer, uint(1, 1) + field(2, append))
    if 15 in reply:
        print("append error " + repr(dict(fields(reply[15]))))
        return 1
    result = dict(fields(reply[2]))
    print("append ok %d" % result.get(2, 0))
    reply = call(dealer, uint(1, 2) + field(3, field(1, stream.encode())))
    if 15 in reply or data not in reply[3]:
        print("read failed " + repr(reply))
        return 1
    print("read ok")
    # A SUB socket gets only what is published once its subscription reached the server: append until one
    # arrives.
    for attempt in range(50):
        reply = call(dealer, uint(1, 10 + attempt) + field(2, append))
        if 15 in reply:
            print("append error " + repr(dict(fields(reply[15]))))
            return 1
        if sub.poll(200):
            break
    else:
        print("feed got nothing within 10 s")
        return 1
    topic, record = sub.recv_multipart()
    if topic != stream.encode() + b"\0" or data not in record:
        print("feed got something else: %r" % topic)
        return 1
    print("feed ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
