console.log('mcp-deploy ready');
