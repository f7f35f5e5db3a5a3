package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/checkout-idem/checkout/internal/ddb"
)

// DynamoDB is a DynamoDB Local process started by a test.
type DynamoDB struct {
	Endpoint string
	port     int
	dbPath   string
	cmd      *exec.Cmd
}

// StartDynamoDB starts DynamoDB Local on a free port and waits until it answers. With dbPath ""
// it keeps its data in memory; with a folder, the data survives Restart.
func StartDynamoDB(dbPath string) (*DynamoDB, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	d := &DynamoDB{port: port, dbPath: dbPath, Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port)}
	if err := d.start(); err != nil {
		return nil, err
	}
	return d, nil
}

func dynamoDir() (string, error) {
	dir := os.Getenv("DYNAMODB_LOCAL_DIR")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(cache, "checkout-idem", "dynamodb-local-2.9.30")
	}
	if _, err := os.Stat(filepath.Join(dir, "DynamoDBLocal.jar")); err == nil {
		return dir, nil
	}
	script, err := repoFile("scripts/install-dynamodb-local.sh")
	if err != nil {
		return "", err
	}
	out, err := exec.Command("bash", script).Output()
	if err != nil {
		return "", fmt.Errorf("testenv: install DynamoDB Local: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func (d *DynamoDB) start() error {
	dir, err := dynamoDir()
	if err != nil {
		return err
	}
	args := []string{"-Djava.library.path=" + filepath.Join(dir, "DynamoDBLocal_lib"),
		"-Xmx512m", "-jar", filepath.Join(dir, "DynamoDBLocal.jar"), "-port", strconv.Itoa(d.port)}
	if d.dbPath == "" {
		args = append(args, "-inMemory")
	} else {
		args = append(args, "-sharedDb", "-dbPath", d.dbPath)
	}
	log, err := os.CreateTemp("", "dynamodb-local-*.log")
	if err != nil {
		return err
	}
	defer log.Close()
	d.cmd = command("java", args...)
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.Dir = os.TempDir() // it writes dynamodb-local-metadata.json into its working directory
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("testenv: start DynamoDB Local: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(exited) }()
	client, err := ddb.NewLambdaClient(d.Endpoint)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.ListTables(ctx, &dynamodb.ListTablesInput{})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("testenv: DynamoDB Local exited early; see %s", log.Name())
		case <-time.After(100 * time.Millisecond): // polling a starting JVM: no signal to wait on
		}
		if time.Now().After(deadline) {
			d.Stop()
			return fmt.Errorf("testenv: DynamoDB Local did not answer within 60s: %v", err)
		}
	}
}

// Stop kills the process: requests to Endpoint fail until Restart.
func (d *DynamoDB) Stop() {
	if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
		_, _ = d.cmd.Process.Wait()
	}
}

// Restart starts the process again on the same port (and folder, if it has one).
func (d *DynamoDB) Restart() error { return d.start() }

var shared struct {
	once     sync.Once
	endpoint string
	err      error
}

// DynamoEndpoint returns the endpoint of the DynamoDB Local shared by this test binary:
// DYNAMODB_ENDPOINT when set, otherwise one started on first use.
func DynamoEndpoint(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		if ep := os.Getenv("DYNAMODB_ENDPOINT"); ep != "" {
			shared.endpoint = ep
			return
		}
		d, err := StartDynamoDB("")
		if err != nil {
			shared.err = err
			return
		}
		atExit(d.Stop)
		shared.endpoint = d.Endpoint
	})
	if shared.err != nil {
		unavailable(t, "DynamoDB Local unavailable: %v", shared.err)
	}
	return shared.endpoint
}

// DynamoClient returns a client of the shared DynamoDB Local.
func DynamoClient(t testing.TB, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	c, err := ddb.NewLambdaClient(DynamoEndpoint(t), optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var tableSeq atomic.Int64

// Table creates a fresh table shaped like t (its Name is used as a prefix) and returns its name,
// so each test works on a table of its own.
func Table(t testing.TB, c *dynamodb.Client, tbl ddb.Table) string {
	t.Helper()
	tbl.Name = fmt.Sprintf("%s-%d-%d", tbl.Name, os.Getpid(), tableSeq.Add(1))
	if err := ddb.Ensure(context.Background(), c, tbl); err != nil {
		t.Fatal(err)
	}
	return tbl.Name
}
