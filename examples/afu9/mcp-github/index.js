console.log('mcp-github ready');
