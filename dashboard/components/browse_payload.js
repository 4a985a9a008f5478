// Reading the browse payload (its layout is documented in mnistlib/browse_data.py): the header at once, the
// zlib-compressed body with the browser's own DecompressionStream, then typed-array views on its sections.

function readPayloadHeader(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new Error("no data arrived");
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 8 || magic !== "MLB1") throw new Error("what arrived is not the images' data");
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))), start: 8 + headerLength };
}

async function readPayloadBody(bytes, header, start) {
  let body;
  try {
    const stream = new Blob([bytes.subarray(start)]).stream().pipeThrough(new DecompressionStream("deflate"));
    body = new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new Error(`the data arrived damaged (${error.message})`);
  }
  if (body.length !== header.body_length) throw new Error("the data arrived incomplete");
  const section = (name, Type) => {
    const { offset, length } = header.sections[name];
    return new Type(body.buffer, offset, length / Type.BYTES_PER_ELEMENT);
  };
  // Typed arrays use the machine's byte order: little-endian on every platform browsers run on today.
  return {
    probabilities: section("probabilities", Uint16Array), // (E, M, C): round(p × 65535)
    predicted: section("predicted", Uint8Array), // (E, M): np.argmax on the server's float32 values
    labels: section("labels", Uint8Array), // (M,)
    images: section("images", Uint8Array), // (M, H, W)
  };
}
