"""The three wire protocols of the sandbox: XML-RPC, JSON-RPC and 19.0's JSON-2."""
