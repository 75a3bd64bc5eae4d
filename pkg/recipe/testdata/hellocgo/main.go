// Command hellocgo is a cgo program for the static-link test of
// GoProgram.Static: it must run with no libc or loader around it.
package main

// #include <stdio.h>
// static int answer(void) { return 42; }
import "C"

import "fmt"

func main() { fmt.Printf("hello from cgo %d\n", C.answer()) }
