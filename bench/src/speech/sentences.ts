/**
 * The sentences of the speech benchmark: what callers say to a contact centre
 * and what a voicemail holds (call-backs, digits, names, dates), written as
 * the words flite speaks (digits spelt out), so the reference needs no
 * normalisation beyond case.
 */
export const SENTENCES: readonly string[] = [
  'please call me back tomorrow morning',
  'my account number is four five six seven',
  'this is john smith calling about my order',
  'i would like to speak to someone about billing',
  'my phone number is five five five one two three four',
  'i need to change my delivery address',
  'can you send me the invoice by email',
  'my name is maria garcia',
  'the package arrived damaged yesterday',
  'i want to cancel my subscription',
  'please transfer me to the sales department',
  'my order number is nine eight seven six',
  'i am calling about the job interview on friday',
  'could you tell me your opening hours',
  'the payment did not go through',
  'i would like to book an appointment for next week',
  'this is david brown from the city council',
  'my card was charged twice this month',
  'please leave a message after the tone',
  'we will call you back within an hour',
  'i forgot my password and cannot log in',
  'the meeting has been moved to thursday afternoon',
  'thank you for your help have a nice day',
  'my zip code is two one zero four four',
];
