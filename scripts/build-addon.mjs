// Placeholder until the addon lands.
console.log('[build-addon] no native addon yet');
