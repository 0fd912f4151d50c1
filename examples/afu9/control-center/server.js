console.log('control-center ready');
