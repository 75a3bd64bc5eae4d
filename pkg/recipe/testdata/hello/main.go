// Command hello is compiled into the test recipe's image.
package main

import "fmt"

func main() { fmt.Println("hello from ros") }
