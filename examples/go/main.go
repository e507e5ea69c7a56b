// A second-language caller of ofa-entail, written from docs/asyncapi.json alone (no code of this repository): it
// sends one request into the durable stream (channel request-interactive, headers Nats-Msg-Id and Ofa-Reply-To) and
// waits for the verdict on its reply subject, then asks a policy list through the core front door (channel
// classify). Each verdict is decoded and printed as one JSON line. Built with Debian's golang-github-nats-io-go-nats-dev
// in GOPATH mode (GO111MODULE=off GOPATH=/usr/share/gocode): see test/integration/go-client.test.ts.
//
// Usage: NATS_URL=nats://127.0.0.1:4222 ofa-go image.jpg "a text" "hypothesis 1" "hypothesis 2" ...
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

// The request envelope (components.messages.request.payload).
type imageData struct {
	Data string `json:"data"`
}

type request struct {
	V          int       `json:"v"`
	ID         string    `json:"id,omitempty"`
	Text       string    `json:"text,omitempty"`
	Hypotheses []string  `json:"hypotheses,omitempty"`
	Image      imageData `json:"image"`
}

// The verdict (components.messages.verdict.payload): ok with a label and scores, ok with results (a policy list),
// or not ok with an error.
type scores struct {
	Yes   float64 `json:"yes"`
	No    float64 `json:"no"`
	Maybe float64 `json:"maybe"`
}

type verdict struct {
	V       int     `json:"v"`
	ID      string  `json:"id"`
	OK      bool    `json:"ok"`
	Label   string  `json:"label,omitempty"`
	Scores  *scores `json:"scores,omitempty"`
	Results []struct {
		Text   string `json:"text"`
		Label  string `json:"label"`
		Scores scores `json:"scores"`
	} `json:"results,omitempty"`
	Error *struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		Retryable bool   `json:"retryable"`
	} `json:"error,omitempty"`
	Model *struct {
		Name       string `json:"name"`
		Meaningful bool   `json:"meaningful"`
	} `json:"model,omitempty"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "ofa-go: "+format+"\n", args...)
	os.Exit(1)
}

func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		fail("random id: %v", err)
	}
	return "go-" + hex.EncodeToString(b)
}

func decode(data []byte) verdict {
	var v verdict
	if err := json.Unmarshal(data, &v); err != nil {
		fail("verdict is not JSON: %v", err)
	}
	if v.V != 1 || (v.OK && v.Label == "" && len(v.Results) == 0) || (!v.OK && v.Error == nil) {
		fail("not a v1 verdict: %s", data)
	}
	return v
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: ofa-go IMAGE TEXT HYPOTHESIS...")
	}
	image, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	url := os.Getenv("NATS_URL")
	if url == "" {
		url = nats.DefaultURL
	}
	nc, err := nats.Connect(url, nats.Name("ofa-go"))
	if err != nil {
		fail("connect: %v", err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		fail("jetstream: %v", err)
	}
	data := base64.StdEncoding.EncodeToString(image)

	// 1. The durable stream: subscribe to the reply subject first, then publish with Nats-Msg-Id and Ofa-Reply-To.
	id := newID()
	payload, _ := json.Marshal(request{V: 1, ID: id, Text: os.Args[2], Image: imageData{Data: data}})
	inbox := nats.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		fail("subscribe: %v", err)
	}
	msg := nats.NewMsg("ofa.ve.req.interactive")
	msg.Data = payload
	msg.Header.Set("Nats-Msg-Id", id)
	msg.Header.Set("Ofa-Reply-To", inbox)
	msg.Header.Set("Ofa-Version", "1")
	if _, err := js.PublishMsg(msg); err != nil {
		fail("publish: %v", err)
	}
	sum := sha256.Sum256(payload)
	deadline := time.Now().Add(60 * time.Second)
	for {
		reply, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			fail("no verdict for %s: %v", id, err)
		}
		v := decode(reply.Data)
		// A verdict answers this request when its id and its Ofa-Request-Sha256 header match.
		if v.ID != id || reply.Header.Get("Ofa-Request-Sha256") != hex.EncodeToString(sum[:]) {
			continue
		}
		out, _ := json.Marshal(map[string]interface{}{"channel": "request-interactive", "id": v.ID, "ok": v.OK, "label": v.Label, "scores": v.Scores})
		fmt.Println(string(out))
		break
	}

	// 2. The front door: core request-reply, the reply is the verdict; a policy list this time.
	list, _ := json.Marshal(request{V: 1, Hypotheses: os.Args[3:], Image: imageData{Data: data}})
	reply, err := nc.Request("ofa.ve.classify", list, 60*time.Second)
	if err != nil {
		fail("front door: %v", err)
	}
	v := decode(reply.Data)
	labels := []string{}
	for _, r := range v.Results {
		labels = append(labels, r.Label)
	}
	out, _ := json.Marshal(map[string]interface{}{"channel": "classify", "id": v.ID, "ok": v.OK, "labels": labels})
	fmt.Println(string(out))
}
