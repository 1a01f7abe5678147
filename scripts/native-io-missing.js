// Run by `npm install` when the native reader (native/tandem_io.c) could not be built: tandem
// still works, reading its sockets through node's own streams, at a higher CPU cost per query.
console.warn(
  'tandem: the native socket reader was not built (it needs python3, make and a C compiler); ' +
    'tandem will use node sockets only.',
);
