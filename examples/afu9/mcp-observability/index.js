console.log('mcp-observability ready');
