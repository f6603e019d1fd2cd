package kelviqtest

// The memory estimates behind Limits.StateBytes and Limits.RequestBytes:
// what a value decoded from JSON (encoding/json into any) takes on the
// heap, erring high. Go's maps take about 2× their entries' 32 bytes
// (key and value headers) once their load factor and growth are counted,
// and every allocation rounds up to a size class.
const (
	sizeIface    = 16  // an interface value (boxed values are counted apart)
	sizeString   = 16  // a string header
	sizeSlice    = 24  // a slice header
	sizeMapBase  = 64  // a map's header and first group
	sizeMapEntry = 112 // one entry of a map[string]any, with slack
	sizeAlloc    = 16  // rounding up of one allocation to its size class
	// sizeIndex is one entry of an index map (a string key and a number),
	// the key's bytes counted apart.
	sizeIndex = 64
	// sizeRequest is a Request's fixed fields.
	sizeRequest = 256
)

// sizeOf estimates the heap memory of a value decoded from JSON.
func sizeOf(v any) int64 {
	switch x := v.(type) {
	case nil, bool:
		return 0
	case float64, int64, int:
		return 8 + sizeAlloc // boxed
	case string:
		return sizeString + int64(len(x)) + sizeAlloc
	case []any:
		n := int64(sizeSlice + sizeAlloc + len(x)*sizeIface)
		for _, e := range x {
			n += sizeOf(e)
		}
		return n
	case []string:
		n := int64(sizeSlice + sizeAlloc)
		for _, e := range x {
			n += sizeString + int64(len(e)) + sizeAlloc
		}
		return n
	case map[string]any:
		n := int64(sizeMapBase + sizeAlloc)
		for k, e := range x {
			n += sizeMapEntry + int64(len(k)) + sizeOf(e)
		}
		return n
	}
	return 64 // not made by the decoder; nothing large is stored this way
}

// headerSize estimates the memory of a header or query map.
func headerSize(h map[string][]string) int64 {
	n := int64(sizeMapBase + sizeAlloc)
	for k, vs := range h {
		n += sizeMapEntry + int64(len(k)) + sizeSlice + sizeAlloc
		for _, v := range vs {
			n += sizeString + int64(len(v)) + sizeAlloc
		}
	}
	return n
}

// requestSize estimates the memory of a recorded request.
func requestSize(r *Request) int64 {
	n := int64(sizeRequest) + int64(cap(r.Body)) + sizeAlloc
	n += int64(len(r.OperationID) + len(r.Method) + len(r.Path) + len(r.Problem))
	n += headerSize(r.Header) + headerSize(r.Query)
	for _, c := range r.Credentials {
		n += sizeString + int64(len(c))
	}
	return n
}
