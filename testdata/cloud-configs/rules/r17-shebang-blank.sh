#!  
echo hi
